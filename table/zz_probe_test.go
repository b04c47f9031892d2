package table
import ("testing";"os";"math/rand/v2";"runtime";"time";"strconv";"strings")
func TestProbeMutate(t *testing.T) {
	raw, _ := os.ReadFile("testdata/fuzz/FuzzParquetReader/seed-small-file")
	lines := strings.Split(string(raw), "\n")
	lit := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
	s, err := strconv.Unquote(lit); if err != nil { t.Fatal(err) }
	valid := []byte(s)
	rng := rand.New(rand.NewPCG(9, 9))
	var ms runtime.MemStats
	for i := 0; i < 200000; i++ {
		data := append([]byte(nil), valid...)
		for k := 0; k < 1+rng.IntN(4); k++ { data[rng.IntN(len(data))] = byte(rng.Uint32()) }
		runtime.ReadMemStats(&ms); before := ms.TotalAlloc
		start := time.Now()
		readBytes(data)
		el := time.Since(start)
		runtime.ReadMemStats(&ms)
		if el > time.Second || ms.TotalAlloc-before > 300<<20 {
			t.Logf("iter %d: %v, %d MB", i, el, (ms.TotalAlloc-before)>>20)
			os.WriteFile("/tmp/slow-input", data, 0o644)
			return
		}
	}
}
