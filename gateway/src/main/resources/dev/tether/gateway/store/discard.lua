-- A session that never started (refused at admission, or its first worker never came): everything
-- of it is deleted, with no tombstone; nobody was ever told its id.
-- KEYS[1] directory, KEYS[2] log, KEYS[3] ids, KEYS[4] queue.
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return 1
