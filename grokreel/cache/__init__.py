"""The cache: what grokreel keeps so that nothing is made or paid for twice.

store.py    blobs by sha256 and action records by job key, in the local folder
tier.py     the one small interface of named objects: ``Folder`` (local), ``Remote`` (S3)
remote.py   the remote cache on S3 and compatible stores, through obstore
sync.py     local first: pull a missing job before paying, push blob then record after it
journal.py  paid requests in flight, and receipts once their clips are stored
claims.py   one paid request per job across machines (create-only claims in the remote)
lease.py    one build per job key across processes on one machine (OS file locks)
lock.py     the lock file: the takes a film was built from
gc.py       what no storyboard or lock file references any more, locally or in the remote
"""
