module asherahlab/go-baseline

go 1.25.0

require (
	// The MySQL driver of upstream's integration tests and cross-language suite
	// (docs/compatibility.md#go-module-versions), for the interop CLI's mysql: metastore.
	github.com/go-sql-driver/mysql v1.9.3
	github.com/godaddy/asherah/go/appencryption v0.9.0
	github.com/godaddy/asherah/go/securememory v0.1.7
	github.com/stretchr/testify v1.11.1
	// Held at v1.39.0, the newest release that needs no golang.org/x/sys newer than v0.34.0 (what
	// securememory v0.1.7 requires), so the upstream benchmarks build against their tagged dependency set.
	modernc.org/sqlite v1.39.0
)

require (
	filippo.io/edwards25519 v1.1.0 // indirect
	github.com/awnumar/memcall v0.4.0 // indirect
	github.com/awnumar/memguard v0.22.5 // indirect
	github.com/aws/aws-sdk-go v1.55.8 // indirect
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/jmespath/go-jmespath v0.4.0 // indirect
	github.com/kr/text v0.2.0 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/ncruces/go-strftime v0.1.9 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	github.com/rcrowley/go-metrics v0.0.0-20201227073835-cf1acfcdf475 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/stretchr/objx v0.5.2 // indirect
	golang.org/x/crypto v0.35.0 // indirect
	golang.org/x/exp v0.0.0-20250620022241-b7579e27df2b // indirect
	golang.org/x/sys v0.34.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
	modernc.org/libc v1.66.3 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.11.0 // indirect
)
