"""A WhatsApp Cloud API (Meta Graph API) simulator for tests, benchmarks and demo mode.

Standalone: it imports nothing from Django or the rest of Parley, and listens on loopback only.

As a command::

    python -m parley.whatsapp.simulator --host 127.0.0.1 --port 8900 [--state-file PATH]

In-process, for tests::

    with running_simulator(SimulatorConfig(template_review_seconds=0)) as sim:
        sim.control.register_number("1065", access_token="t", app_secret="s",
                                    webhook_url="http://127.0.0.1:8000/webhooks/whatsapp/k")
        # point the Graph base URL at sim.graph_url, e.g. f"{sim.graph_url}/v21.0/1065/messages"
        sim.control.inbound("1065", "15551234567", name="Ann", text="hi")
        sim.control.messages("1065", to="15551234567")  # what that phone received

`BackgroundServer(asgi_app)` runs any ASGI app (a webhook receiver, Parley itself) the same way.
"""

from .app import build_app
from .client import SimulatorClient, SimulatorControlError
from .config import SimulatorConfig
from .core import Simulator
from .server import BackgroundServer, SimulatorHandle, running_simulator, start_simulator
from .webhooks import SIGNATURE_HEADER, signature

__all__ = [
    "SIGNATURE_HEADER",
    "BackgroundServer",
    "Simulator",
    "SimulatorClient",
    "SimulatorConfig",
    "SimulatorControlError",
    "SimulatorHandle",
    "build_app",
    "running_simulator",
    "signature",
    "start_simulator",
]
