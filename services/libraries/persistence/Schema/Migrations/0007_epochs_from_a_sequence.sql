-- Epochs of the Redis counters come from a sequence: a sequence never hands a number out twice, even when
-- the transaction that took it rolls back. A rebuild writes its epoch to Redis before it commits; had the epoch been
-- redis_epoch + 1 and the commit failed, a later database reservation could have made the same number current for a
-- different set of rows, and Redis counters that missed a row would have passed the check.
CREATE SEQUENCE redis_epoch_seq;
SELECT setval('redis_epoch_seq', GREATEST((SELECT MAX(redis_epoch) FROM workers), 0) + 1, false);
