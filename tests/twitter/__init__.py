"""Tests of the X (Twitter) provider plugin and its emulator."""
