"""Speech to text: engines behind one interface, model management, and the listener that
decides when the driver has started and finished speaking."""
