package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// requireToken lets a request through only with
// "Authorization: Bearer <token>" equal to the configured token (compared
// in constant time). Without a configured token every write is refused.
func (s *Server) requireToken(h http.Handler) http.Handler {
	want := sha256.Sum256([]byte(s.cfg.Token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="normguard"`)
			writeError(w, http.StatusUnauthorized, "unauthorized",
				"writes are disabled: start the server with NORMGUARD_TOKEN set")
			return
		}
		auth := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
		got := sha256.Sum256([]byte(token))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="normguard"`)
			writeError(w, http.StatusUnauthorized, "unauthorized",
				"missing or wrong token: send Authorization: Bearer <NORMGUARD_TOKEN>")
			return
		}
		h.ServeHTTP(w, r)
	})
}
