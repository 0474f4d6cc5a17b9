package idtable

import "sync"

// maxNames is how many removed IDs Names remembers.
const maxNames = 4096

// Names remembers the names of the IDs removed last, so that an error about an
// ID used after its script was unloaded can name the script: the most recent
// 4,096, the oldest forgotten first. Its zero value is ready; it is safe for
// concurrent use.
type Names struct {
	mu    sync.Mutex
	names map[uint64]string
	order []uint64 // the IDs in names, a ring whose oldest is at next once full
	next  int
}

// Add records that id, named name, was removed.
func (n *Names) Add(id uint64, name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.names == nil {
		n.names = map[uint64]string{}
	}
	if _, ok := n.names[id]; !ok {
		if len(n.order) < maxNames {
			n.order = append(n.order, id)
		} else {
			delete(n.names, n.order[n.next])
			n.order[n.next] = id
			n.next = (n.next + 1) % maxNames
		}
	}
	n.names[id] = name
}

// Get returns the name of removed id, if remembered.
func (n *Names) Get(id uint64) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	name, ok := n.names[id]
	return name, ok
}
