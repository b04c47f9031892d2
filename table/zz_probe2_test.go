package table
import ("testing";"os")
func TestProbeSlow(t *testing.T) {
	data, _ := os.ReadFile("/tmp/slow-input")
	t.Log(readBytes(data))
}
