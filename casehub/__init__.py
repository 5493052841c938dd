"""The case hub: the whole conversation with case systems, both ways.

Out: the outbox of deliveries, worked by dispatchers through each connection's
connector (Open311, signed webhook, e-mail, Knutpunkt's own inbox): new cases,
and updates telling a case system of the changes staff make in Knutpunkt. In: status
signals (signed webhooks, Open311 updates pushed to us, polled updates), taken by
one service that makes them the report's state. Also the connections' set-up
screens and the sync of an Open311 service list into a body's categories.
"""
