"""One router per resource of the tracking protocol; ``create_app`` includes them all."""
