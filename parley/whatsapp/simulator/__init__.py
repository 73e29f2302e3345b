"""A WhatsApp Cloud API (Meta Graph API) simulator for tests, benchmarks and demo mode.

Standalone: it imports nothing from Django or the rest of Parley.
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
