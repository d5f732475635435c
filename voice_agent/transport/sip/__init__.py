"""The phone line's asyncio shells over the sans-I/O SIP user agent (protocol/sip/agent.py):
the UDP endpoint (endpoint.py), one call's transport (call.py), calls out (outbound.py) and
the registration (registration.py). Nothing here imports the app: server.py wires it."""

from voice_agent.transport.sip.call import CallRunner, SipCall
from voice_agent.transport.sip.endpoint import SipEndpoint
from voice_agent.transport.sip.outbound import OutboundCallError

__all__ = ["CallRunner", "OutboundCallError", "SipCall", "SipEndpoint"]
