"""``neuronet playground``: the lecture, live in the browser.

A local web app (Starlette on uvicorn, WebSockets) driven by the real engine: each browser tab
gets a session that trains its own network through ``Network.loss_and_grads`` and streams maps,
curves and per-layer numbers; the biology tab runs ``neuronet.bio``.  Every asset ships in
``static/``: no CDN, works offline.  Start it with :func:`neuronet.playground.server.serve`.
"""
