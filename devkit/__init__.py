"""The development kit, for tests and benchmarks alike (never deployed code):

- ``instance``: a whole Knutpunkt in real processes on a throwaway database (a
  new SQLite file, or a new PostgreSQL database dropped afterwards);
- ``servers``: small real servers on loopback standing in for the external
  systems we cannot run here (Open311 and webhook case systems, SMTP, a
  geocoder), speaking the real protocols;
- ``webhooks``: Standard Webhooks signing and verifying, written from the
  specification, apart from the product's own code so that each checks the other.
"""
