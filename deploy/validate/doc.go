// Package validate holds no code of its own: its test (validate_test.go)
// checks the Kubernetes manifests under deploy/ (the Chaos Mesh templates
// in deploy/chaos-mesh and the jobs in deploy/k8s) against Chaos Mesh's
// and Kubernetes' own Go API types, strictly (an unknown field is an
// error), and checks what docs/kubernetes.md relies on: actions, selectors,
// durations, names, shard counts.
//
// It is a module of its own so that the main module does not depend on
// the Kubernetes and Chaos Mesh APIs:
//
//	cd deploy/validate && go test ./...
package validate
