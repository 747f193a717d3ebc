"""Every statement of the lecture, and where the report tests it (or why it does not).

``STATEMENTS`` follows the lecture (``shared/lecture``) from top to bottom.  A statement is either
tested, by an experiment and the names of the checks in its result that decide it, or not
tested, with the reason.  ``tests/test_lecture.py`` checks that every named experiment and check
exists in a real lecture run, and the report prints this table with each verdict.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Statement:
    """One statement of the lecture.

    ``text``: the statement, close to the lecture's words.  ``part``: "neurobiology" or
    "variations".  ``experiment``/``checks``: where it is tested; a check is named exactly, or
    by a prefix ending in ``*``.  ``untested``: why it is not tested (then ``experiment`` is None).
    """

    text: str
    part: str
    experiment: str | None = None
    checks: tuple[str, ...] = ()
    untested: str = ""

    def __post_init__(self):
        if (self.experiment is None) == (not self.untested):
            raise ValueError(f"{self.text!r}: give an experiment and checks, or the reason it is untested")


def _t(text, experiment, *checks, part="variations"):
    return Statement(text, part, experiment, tuple(checks))


def _u(text, reason, part="variations"):
    return Statement(text, part, untested=reason)


_N = "neurobiology"

#: The lecture, statement by statement, top to bottom.
STATEMENTS: tuple[Statement, ...] = (
    # -- neurobiology ---------------------------------------------------------------------------
    _u("NNs were inspired by how the brain works", "history, not a measurable property", part=_N),
    _u(
        "CPU: sequential, nanosecond gates, fragile if a gate fails; brain: parallel, millisecond neurons, "
        "fault-tolerant",
        "a comparison of hardware; the fault tolerance of networks is tested under neuron death below",
        part=_N,
    ),
    _t(
        "CPUs have perfect key-based memory; brains (and networks) recall by association",
        "hopfield",
        "partial cue",
        part=_N,
    ),
    _t(
        "Neurons are always dying; no single neuron's death makes you forget (diffuse memory)",
        "hopfield",
        "single death",
        "vs grandmother cells",
        "vs redundant store",
        part=_N,
    ),
    _t("Artificial networks have the same resilience", "lesion", "single death", "graceful", part=_N),
    _t("Memories are stored with the same set of weights", "hopfield", "capacity", "m(α) theory", part=_N),
    _u(
        "Brains are superior for vision, speech, associative memory, noticing connections",
        "a statement about brains, which no network experiment here can measure",
        part=_N,
    ),
    _u(
        "NNs are inferior for multiplying 10-digit numbers or compiling code",
        "true by construction of the tasks; nothing in the library computes them",
        part=_N,
    ),
    _u("Definitions: neuron, spike, axon, dendrite, synapse, neurotransmitter", "definitions, not claims", part=_N),
    _t(
        "A unit's output is a neuron's firing rate; positive and negative weights are excitatory and inhibitory "
        "synapses",
        "lif",
        "the sign of the weight matters",
        "inhibition subtracts",
        part=_N,
    ),
    _t(
        "A neuron is excitatory or inhibitory at all its terminals; networks have an advantage in that weights can "
        "change freely",
        "dale",
        "free beats Dale at equal width",
        "free weights change sign",
        "the Dale constraint binds",
        part=_N,
    ),
    _t(
        "A linear combination of inputs is the neuron's summation",
        "lif",
        "rate rises with Σ w r",
        "the rate is Siegert's function of the sums",
        part=_N,
    ),
    _t(
        "A neuron fires when its summed input, integrated over time, reaches threshold",
        "lif",
        "rate rises with Σ w r",
        part=_N,
    ),
    _t(
        "The voltage decays, so slowly arriving spikes may never make it fire",
        "lif",
        "slow input never fires the neuron",
        "the leak is what silences slow input",
        part=_N,
    ),
    _t(
        "A neuron can't fire more than 1000 times a second, nor less than zero",
        "lif",
        "the rate saturates below 1/t_ref",
        "the ceiling is 1/t_ref for every τ_m",
        part=_N,
    ),
    _t(
        "This limits its ability to overpower downstream neurons",
        "lif",
        "a bounded rate cannot overpower downstream",
        part=_N,
    ),
    _t(
        "The sigmoid simulates the firing-rate saturation",
        "lif",
        "with noise the rate is a sigmoid in linear drive",
        "noisy rate = Siegert's formula",
        part=_N,
    ),
    _t(
        "Hebb: cells that fire together wire together; one cell's firing makes another fire more",
        "hebb",
        "one cell's firing makes another fire more",
        part=_N,
    ),
    _t(
        "Their excitatory synaptic connection grows stronger",
        "hebb",
        "causal pre → post strengthens the excitatory synapse",
        "anti-causal order weakens",
        part=_N,
    ),
    _t(
        "There is a reverse rule for inhibitory connections",
        "hebb",
        "reverse rule: the inhibitory synapse strengthens",
        part=_N,
    ),
    _t(
        "Neurons that aren't connected can grow connections",
        "hebb",
        "co-active unconnected neurons grow connections",
        "independent activity grows ~nothing",
        part=_N,
    ),
    _u(
        "The brain doing backpropagation is a tenuous analogy",
        "an opinion about neuroscience, not measurable here",
        part=_N,
    ),
    # -- variations -----------------------------------------------------------------------------
    _u(
        "Regression: a linear output unit, no sigmoid",
        "a modelling choice (targets outside [0, 1] cannot be reached by a sigmoid); used by every regression model",
    ),
    _t(
        "Classification: softmax outputs sum to 1; its derivative is z_j(δ_ij − z_i)",
        "softmax-derivatives",
        "formula ∂z_j/∂t_i = z_j(δ_ij − z_i)",
    ),
    _t("The notes' ∂z_j/∂t_j = Σ z_i(1 − z_i) is a typo for z_j(1 − z_j)", "softmax-derivatives", "typo diag"),
    _t("Sigmoid outputs near 0 or 1 give S′ = S(1 − S) ≈ 0", "sigmoid-facts", "S′ = S(1 − S)", "the tails are flat"),
    _t(
        "Saturation → slow gradient descent, the unit is stuck",
        "saturation",
        "saturation slows descent",
        "saturated units move less",
    ),
    _t("Saturation → converges to bad local minima", "saturation", "saturation ends worse"),
    _t(
        "The vanishing gradient: the more layers, the bigger the issue",
        "vanishing-gradients",
        "gradient shrinks toward the input",
        "more layers, bigger issue",
        "below the control at *",
        "the depth effect is the sigmoid's",
        "still there after training",
    ),
    _t("① Initialise each of n incoming weights with mean 0 and σ = 1/√n", "remedies", "① helps (sigmoid)"),
    _t(
        "The bigger the fan-in, the easier it is to saturate; smaller initial weights for large n",
        "saturation",
        "fan-in saturates",
        "σ = 1/√n keeps it flat",
    ),
    _t("② Targets 0.15/0.85 instead of 0/1", "remedies", "② helps (sigmoid)"),
    _t(
        "The sigmoid has its greatest curvature at 0.21 and 0.79",
        "sigmoid-facts",
        "greatest curvature at 0.21 and 0.79",
    ),
    _t(
        "③ Add ≈ 0.1 to S′ in backpropagation: the unit can't get stuck",
        "remedies",
        "③ helps (sigmoid)",
        "③ un-sticks a stuck output (ReLU)",
    ),
    _t("③ is not quite steepest descent any more", "quickprop", "S′ + 0.1 is not steepest descent*"),
    _t(
        "Quickprop: a direction with quicker convergence",
        "quickprop",
        "Quickprop beats backprop*",
        "Quickprop + offset beats backprop + offset*",
        "offset speeds up backprop*",
    ),
    _t(
        "④ Cross-entropy loss instead of squared error",
        "remedies",
        "④ helps (sigmoid)",
        "④ un-sticks a stuck output (ReLU)",
    ),
    _t("Choose labels with Σ y_i = 1 (strongly recommended)", "softmax-derivatives", "Σy = 1 is needed"),
    _u(
        "Typically one-hot, but ② suggests otherwise",
        "a remark on the tension between ② and Σy = 1; the Σy = 1 check shows what breaks when the sum differs",
    ),
    _t(
        "Scalar sigmoid output: the logistic loss −y ln z − (1 − y) ln(1 − z)",
        "stuck-units",
        "sigmoid outputs unstick",
        "sigmoid outputs: accuracy",
    ),
    _t(
        "Softmax backprop: ∇_W L = (z − y)hᵀ and ∇_h L = Wᵀ(z − y)",
        "softmax-derivatives",
        "formula ∇_W L = (z − y)hᵀ",
        "formula ∇_h L = Wᵀ(z − y)",
    ),
    _t("The notes' ∂L/∂z_j = −y_i/z_j and Σ z_i z_i w_i are typos", "softmax-derivatives", "typo dL_dz", "typo dz_dh"),
    _t(
        "Cross-entropy helps avoid stuck output units",
        "stuck-units",
        "sigmoid outputs unstick",
        "softmax outputs unstick",
        "softmax outputs: accuracy",
    ),
    _t(
        "Cross-entropy can't help stuck hidden units",
        "stuck-units",
        "sigmoid: CE can't help hidden units",
        "softmax: CE can't help hidden units",
        "positive control: ③ reaches stuck hidden units",
    ),
    _u(
        "Cross-entropy is only for sigmoid and softmax outputs; regression uses linear outputs and squared error",
        "a statement of which loss fits which output; there is no rival loss for unbounded targets to compare",
    ),
    _t("⑤ ReLU instead of sigmoids", "remedies", "⑤ helps"),
    _t(
        "r′(r) = 1 for r ≥ 0 (the notes' convention at 0)",
        "xor-relu",
        "r′(0) = 1 keeps units alive",
        "r′(0) = 1 helps learn XOR",
    ),
    _u("ReLU is popular for deep networks and large training sets", "a statement about practice, not measurable here"),
    _u("ReLU's gradient is fast to compute", "shown by benchmarks/bench_mlp.py (ReLU vs sigmoid rows), not a verdict"),
    _t("ReLU is still nonlinear, so it can compute XOR", "xor-relu", "hand-set XOR", "trained ReLU networks learn XOR"),
    _t(
        "ReLU's gradient is sometimes 0, but rarely 0 for all points",
        "xor-relu",
        "dead at init matches theory",
        "dead units rare on XOR",
        "rare with many points",
    ),
    _t(
        "Arbitrarily large output might overwhelm units downstream: the exploding gradient problem",
        "exploding-gradients",
        "gradient explodes toward the input",
        "unboundedness adds to the explosion",
        "large outputs overwhelm the output layer",
        "plain SGD diverges",
    ),
    _t("⑤ makes ②, ③ and ④ useless", "remedies", "⑤ makes *", "⑤ leaves a stuck output stuck"),
)


def matches(pattern: str, name: str) -> bool:
    """Whether check ``name`` is what ``pattern`` names (exactly, or by a prefix ending in ``*``)."""
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern
