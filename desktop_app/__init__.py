"""A desktop music-composition workstation: piano roll, playback, spectrogram, and three models that edit, continue and harmonise."""

__version__ = "0.1.0"
APP_NAME = "Desktop App"
ORG_NAME = "desktop-app"
