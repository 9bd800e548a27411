package engine

// Several instances may share one database (PostgreSQL, product.md §16).
// Each then hears what the others do through a ClusterListener, which the
// shared store drives (LISTEN/NOTIFY in db/postgres; cmd wires the two):
// work queued elsewhere wakes this instance's runner at once instead of at
// its next poll, and an edit made elsewhere drops the compiled flow cached
// here, so that it is live on every instance within moments.

// ClusterListener receives the signals of the other instances sharing the
// database. Its methods are called from one goroutine, in order, and return
// quickly.
type ClusterListener interface {
	// WorkDue: executions were queued or made due (accepted while the
	// accepting instance was busy, retried, replayed, released by an
	// instance that stopped); the runner looks for due work now.
	WorkDue()
	// WorkflowChanged: the current revision of the workflow with key
	// changed, or the workflow was deleted.
	WorkflowChanged(key string)
	// Disconnected: signals may be missed until Reconnected, so nothing
	// cached can be trusted: every request reads its workflow from the
	// database meanwhile.
	Disconnected()
	// Reconnected: signals are heard again. instance is this instance's
	// number (it may have changed: see IDGenerator.SetInstance) and lastID
	// the largest execution id stored, which later ids must exceed.
	Reconnected(instance int, lastID int64)
}

// ClusterListener returns the listener through which the shared store tells
// this service what the other instances do.
func (s *Service) ClusterListener() ClusterListener { return clusterListener{s} }

// SetInstance makes execution ids carry this instance's number, leased from
// the shared database, so that no two instances make the same id.
func (s *Service) SetInstance(n int) { s.ids.SetInstance(n) }

type clusterListener struct{ s *Service }

func (l clusterListener) WorkDue() { l.s.notify() }

func (l clusterListener) WorkflowChanged(key string) { l.s.forget(key) }

func (l clusterListener) Disconnected() {
	l.s.cacheOff.Store(true)
	l.s.forgetAll()
}

func (l clusterListener) Reconnected(instance int, lastID int64) {
	l.s.ids.SetInstance(instance)
	l.s.ids.Seed(lastID)
	// Anything may have changed while signals were missed.
	l.s.forgetAll()
	l.s.cacheOff.Store(false)
	l.s.notify()
}

// forgetAll drops every cached current revision.
func (s *Service) forgetAll() {
	s.mu.Lock()
	clear(s.cache)
	s.cacheCost = 0
	s.gen++
	s.mu.Unlock()
}
