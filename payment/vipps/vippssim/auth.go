package vippssim

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Problem types, in the style of the provider's problem documentation.
const (
	problemBase       = "https://developer.vippsmobilepay.com/docs/APIs/epayment-api/api-guide/problems#"
	probValidation    = "validation-error"
	probNotFound      = "not-found"
	probConflict      = "conflict"
	probInvalidState  = "invalid-state"
	probUnauthorized  = "unauthorized"
	probForbidden     = "forbidden"
	probIdempotency   = "idempotency-conflict"
	probRateLimit     = "too-many-requests"
	probFault         = "server-error"
	problemJSON       = "application/problem+json"
	plainJSON         = "application/json"
	accessTokenJSON   = "application/json;charset=UTF-8" // exactly as accesstoken.yaml declares it
	tokenResourceName = "00000002-0000-0000-c000-000000000000"
)

// problem is the ePayment Problem object (RFC 7807) with the provider's
// traceId and extraDetails.
type problem struct {
	Type         string        `json:"type"`
	Title        string        `json:"title"`
	Status       int           `json:"status"`
	Detail       string        `json:"detail,omitempty"`
	Instance     string        `json:"instance,omitempty"`
	TraceID      string        `json:"traceId"`
	ExtraDetails []extraDetail `json:"extraDetails,omitempty"`
}

type extraDetail struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

func (s *Server) problem(w http.ResponseWriter, r *http.Request, status int, kind, title, detail string, extra ...extraDetail) {
	writeJSON(w, status, problemJSON, problem{
		Type:         problemBase + kind,
		Title:        title,
		Status:       status,
		Detail:       detail,
		Instance:     r.URL.Path,
		TraceID:      s.randomHex(16),
		ExtraDetails: extra,
	})
}

// api is the provider API a path belongs to: each answers errors its own way.
type api int

const (
	apiEPayment api = iota // also the access token and anything unknown
	apiECom
	apiQR
	apiOrders
)

func apiOf(path string) api {
	switch {
	case strings.HasPrefix(path, "/ecomm/"):
		return apiECom
	case strings.HasPrefix(path, "/qr/"):
		return apiQR
	case strings.HasPrefix(path, "/order-management/"):
		return apiOrders
	}
	return apiEPayment
}

// apiError answers a failure that is not the operation's own (credentials,
// rate limits, injected faults) in the error format of the request's API:
// problem+json for ePayment, an error array for eCom (Azure's gateway
// object for 401/403, as the provider's gateway sends them), and the
// {title, detail, instance} object of the QR and Order management APIs.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, status int, kind, detail string) {
	if status == http.StatusTooManyRequests {
		kind = probRateLimit
	}
	switch apiOf(r.URL.Path) {
	case apiECom:
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			writeJSON(w, status, ecomJSON, azureError{
				ResponseInfo: azureInfo{ResponseCode: status, ResponseMessage: http.StatusText(status)},
				Result:       azureResult{Message: detail},
			})
			return
		}
		s.ecomError(w, status, ecomGroupFor(status), strconv.Itoa(status), detail)
	case apiQR, apiOrders:
		s.titled(w, status, http.StatusText(status), detail)
	default:
		s.problem(w, r, status, kind, http.StatusText(status), detail)
	}
}

// accessToken serves POST /accesstoken/get: the client_id names the sales
// unit, whose secret and subscription key must come with it.
func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	h := r.Header
	unit := slices.IndexFunc(s.units, func(u SalesUnit) bool { return u.ClientID == h.Get("client_id") })
	var wrong []string
	if unit < 0 {
		wrong = append(wrong, "client_id")
	} else {
		u := s.units[unit]
		if h.Get("client_secret") != u.ClientSecret {
			wrong = append(wrong, "client_secret")
		}
		if h.Get("Ocp-Apim-Subscription-Key") != u.SubscriptionKey {
			wrong = append(wrong, "Ocp-Apim-Subscription-Key")
		}
		// accesstoken.yaml makes Merchant-Serial-Number optional here;
		// when sent it must be this unit's.
		if msn := h.Get("Merchant-Serial-Number"); msn != "" && !u.knows(msn) {
			wrong = append(wrong, "Merchant-Serial-Number")
		}
	}
	if len(wrong) > 0 {
		s.problem(w, r, http.StatusUnauthorized, probUnauthorized, "Unauthorized",
			"wrong or missing "+strings.Join(wrong, ", ")+": use the API keys of this sales unit from the merchant portal")
		return
	}

	// Opaque, base64 like the real JWT (the schema's format is byte).
	token := base64.StdEncoding.EncodeToString(s.randomBytes(48))
	s.mu.Lock()
	now := s.clock.Now()
	expires := now.Add(s.cfg.TokenTTL)
	s.tokens[token] = grant{unit: unit, expires: expires}
	s.mu.Unlock()

	ttl := strconv.FormatInt(int64(s.cfg.TokenTTL.Seconds()), 10)
	writeJSON(w, http.StatusOK, accessTokenJSON, map[string]string{
		"token_type":     "Bearer",
		"expires_in":     ttl,
		"ext_expires_in": ttl,
		"expires_on":     strconv.FormatInt(expires.Unix(), 10),
		"not_before":     strconv.FormatInt(now.Unix(), 10),
		"resource":       tokenResourceName,
		"access_token":   token,
	})
}

// authed wraps an API handler with the checks the provider's gateway
// makes: a valid unexpired token (401), then the subscription key and MSN
// that belong to it (403).
func (s *Server) authed(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		g, known := s.tokens[token]
		now := s.clock.Now()
		s.mu.Unlock()
		expires, unit := g.expires, s.units[g.unit]
		switch {
		case !bearer || token == "":
			s.apiError(w, r, http.StatusUnauthorized, probUnauthorized,
				"missing access token: send Authorization: Bearer <token from POST /accesstoken/get>")
		case !known:
			s.apiError(w, r, http.StatusUnauthorized, probUnauthorized,
				"the access token is not valid: fetch a new one from POST /accesstoken/get")
		case !now.Before(expires):
			s.apiError(w, r, http.StatusUnauthorized, probUnauthorized,
				"the access token expired at "+expires.UTC().Format(timeFormat)+": fetch a new one from POST /accesstoken/get")
		case r.Header.Get("Ocp-Apim-Subscription-Key") != unit.SubscriptionKey:
			s.apiError(w, r, http.StatusForbidden, probForbidden,
				"wrong or missing Ocp-Apim-Subscription-Key: use the subscription key of this sales unit")
		case !unit.knows(r.Header.Get("Merchant-Serial-Number")):
			s.apiError(w, r, http.StatusForbidden, probForbidden,
				"Merchant-Serial-Number "+strconv.Quote(r.Header.Get("Merchant-Serial-Number"))+
					" is not the sales unit these API keys belong to: check the MSN in the register's config")
		default:
			next(w, r)
		}
	}
}
