"""The cache: what grokreel keeps so that nothing is made or paid for twice.

store.py    blobs by sha256 and action records by job key
journal.py  paid requests in flight, and receipts once their clips are stored
lease.py    one build per job key across processes on one machine (OS file locks)
lock.py     the lock file: the takes a film was built from
gc.py       what no storyboard or lock file references any more
"""
