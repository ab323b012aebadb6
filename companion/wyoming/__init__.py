"""The Wyoming protocol (Home Assistant's voice services): use any Wyoming speech-to-text or
text-to-speech service as our engine (`client.py`), and serve ours to others (`server.py`)."""
