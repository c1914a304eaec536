package webhook

import (
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"
)

// Content types GitHub delivers webhooks with. A webhook's content type
// is a setting of the hook ("json" or "form" in the REST API's
// webhook-config-content-type; "form" is the default there and in the
// UI): application/json sends the JSON payload as the body;
// application/x-www-form-urlencoded sends it as the form parameter
// "payload" (docs.github.com/webhooks: "Creating webhooks", content
// type). Either way X-Hub-Signature-256 signs the raw body as sent.
const (
	ContentTypeJSON = "application/json"
	ContentTypeForm = "application/x-www-form-urlencoded"
)

// ErrContentType: a delivery's Content-Type is neither of the two GitHub
// sends, or a form-encoded body has no (or more than one) payload
// parameter.
var ErrContentType = errors.New("webhook: unsupported content")

// Payload returns the JSON payload of a delivery body sent with the
// given Content-Type header: the body itself for application/json (and
// for an absent Content-Type), the "payload" form parameter for
// application/x-www-form-urlencoded. Verify the signature on the raw body
// first: GitHub signs the body as sent, not the payload inside it.
// Errors wrap [ErrContentType].
func Payload(contentType string, body []byte) ([]byte, error) {
	if strings.TrimSpace(contentType) == "" {
		return body, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, fmt.Errorf("%w: Content-Type %q: %v", ErrContentType, contentType, err)
	}
	switch mt {
	case ContentTypeJSON:
		return body, nil
	case ContentTypeForm:
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("%w: form body: %v", ErrContentType, err)
		}
		vs := form["payload"]
		if len(vs) != 1 || vs[0] == "" {
			return nil, fmt.Errorf("%w: form body needs exactly one payload parameter, has %d", ErrContentType, len(vs))
		}
		return []byte(vs[0]), nil
	}
	return nil, fmt.Errorf("%w: Content-Type %q (GitHub sends %s or %s)", ErrContentType, mt, ContentTypeJSON, ContentTypeForm)
}
