"""Twilio Programmable Voice: webhooks, signatures, TwiML."""
