"""Developer tools: migrate everything, seed the demo dealership, run the whole system locally,
a carrier simulator and an SMTP sink. None of this is deployed."""
