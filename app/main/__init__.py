"""The start page per role, navigation and template helpers shared by every feature."""
