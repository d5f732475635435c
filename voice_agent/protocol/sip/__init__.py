"""SIP for the phone line, sans-I/O: messages, transactions, dialogs, digest auth."""
