package securememory

import "testing"

// BenchmarkCalibrationNoop does nothing per op. scripts/go-mprotect-count.sh runs it under strace with the same
// -benchtime and -cpu as each mirror above, to count the mprotect calls that the Go runtime and the testing package
// make by themselves, and subtracts them from the mirror's count. It is not a mirror of anything upstream.
func BenchmarkCalibrationNoop(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
		}
	})
}
