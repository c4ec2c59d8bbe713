package clusters

// Power loss in the docker backend (powerloss_fs). A node's store is
// served through powerfs mounted on the host, by a keeper jetstorm runs
// there, as in the process backend (powerStore): the FUSE mount is at
// nodes/nN/store, inside the node directory the container gets at /node.
// A docker bind mount is recursive (rbind), so the container sees the
// powerfs mount at /node/store, with no bind of its own; but it is
// resolved when the container starts, and later mounts on the host do not
// reach a running container (private propagation). So the store is
// mounted before every start of the container (Start), and a power loss
// kills the container first, then the keeper: the next start mounts a
// fresh powerfs, holding only what was synced, and only then starts the
// container.
//
// The store as it is on disk (nodes/nN/store.disk) is in /node too; the
// node never looks there (its store_dir is /node/store).
//
// A running container holds a copy of the mount: a keeper's clean unmount
// (Close, or SIGTERM when jetstorm dies) takes it off the host at once,
// but the keeper exits only once the container is gone (Close removes the
// containers first; after a jetstorm killed outright, jetstorm clean).

// PowerLoss cuts the node's power: SIGKILL the container (and wait until
// it is stopped), then the powerfs keeper, so every write the node had not
// fsynced is gone. It returns the bytes of unsynced data thrown away.
// Start brings the node back.
func (n *DockerNode) PowerLoss() (int64, error) { return powerLoss(n.name, n.power, n.Kill) }

// UnsyncedBytes is how much written data the node has not fsynced yet.
func (n *DockerNode) UnsyncedBytes() (int64, error) { return n.power.unsynced(n.name) }

// BackingDir is where a powerfs node's store really is on disk.
func (n *DockerNode) BackingDir() string { return backingDir(n.dir) }

// KeeperLogPath is the log of the node's powerfs keeper (powerloss_fs).
func (n *DockerNode) KeeperLogPath() string { return keeperLogPath(n.dir, n.name) }
