"""The project's own error types.

Every error a user can cause (bad data, bad options, bad model files) is a
``NeuronetError``; it subclasses ``ValueError`` so that code written for
scikit-learn conventions catches it too.  The command-line interface turns
these into one line on stderr and exit code 2.
"""


class NeuronetError(ValueError):
    """Base class of every error caused by user input."""


class DataError(NeuronetError):
    """A data file or data spec is missing, malformed or unusable."""


class ModelFileError(NeuronetError):
    """A model or checkpoint file is missing, corrupt or fails the schema."""


class ConfigError(NeuronetError):
    """An option or configuration value is invalid."""


class DivergenceError(RuntimeError):
    """Training produced a NaN or infinite loss.

    The network's weights have already been restored to the last good state
    when this is raised; ``history`` holds what was recorded up to then.
    """

    def __init__(self, message, history=None):
        super().__init__(message)
        self.history = history
