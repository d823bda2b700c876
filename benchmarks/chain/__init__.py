"""The command-chained design, beside ours: the seed's first design, built to be measured.

Each service tells the next what to do, with a command addressed to it alone:

    BUY (web)  ─ DispatchProduct ─▶ warehouse          + SendEmail, SendText ("received")
    warehouse  ─ SendEmail, SendText ("confirmed", "dispatched" with the tracking number) ─▶
               notifications
    notifications, once the "dispatched" email is out ─ RecordSale ─▶ sales

No service publishes a fact: the BUY decides who hears about the order, the warehouse
decides who hears about the dispatch, and the sale is counted when the customer has been
told (the seed's "count the emails sent"). The result of one step is fed into the next
one's arguments, so notifications carries the sale's lines it has no use for.

It runs on the same servers and tables as the shop (the apps' models: orders, stock,
reservations, notifications, sales figures), in its own processes: the web view in the
benchmark's gunicorn (`buy.py`) and one plain kafka-python consumer process per service
(`worker.py`). Nothing here is imported by an app; it lives in benchmarks/ only.
"""
