"""Launching and watching engine jobs from the studio: settings dialogs and the job panel."""
