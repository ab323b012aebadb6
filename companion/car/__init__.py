"""The car: its simulated state, the energy a trip needs, and what it says about itself.

- `state.py`: the simulated car (battery, range, temperatures, climate, speed, odometer);
- `energy.py`: can it make a route, with a reserve;
- `answers.py`: its readings, climate changes and range answers as short spoken sentences;
- `skill.py`: the `car.*` intents' skill (status, climate, range), answered from the car and
  the navigator, never from the language model.
"""

from .state import CLIMATE_MAX_C, CLIMATE_MIN_C, CLIMATE_STEP_C, PACK_KWH, WH_PER_KM, Car

__all__ = ["CLIMATE_MAX_C", "CLIMATE_MIN_C", "CLIMATE_STEP_C", "PACK_KWH", "WH_PER_KM", "Car"]
