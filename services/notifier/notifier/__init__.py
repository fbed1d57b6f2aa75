"""notifier: tells staff what concerns them (in-app feed, live stream, e-mail) and sends SMS."""
