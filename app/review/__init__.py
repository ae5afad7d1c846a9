"""Review of submitted visits: the queue, the whole visit, decisions and the comment library."""
