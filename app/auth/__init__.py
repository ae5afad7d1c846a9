"""Sign-in, sign-out, language and password; the `users` CLI."""
