package vipps

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/png" // the QR API's image/png
	"io"
	"net/http"
	"strconv"
)

// maxQRSide is the QR API's largest image (its Size, 100–2000 pixels).
const maxQRSide = 2000

// The QR formats OneTimeQR can ask for.
const (
	QRTargetURL = "text/targetUrl" // a short URL for the register to draw
	QRPNG       = "image/png"      // an image URL, fetched with FetchImage
)

// QR is the QR API's answer: the short URL or the image URL, and how many
// seconds the QR stays valid.
type QR struct {
	URL       string `json:"url"`
	ExpiresIn int    `json:"expiresIn"`
}

// OneTimeQR asks the QR API for a QR of an eCom landing page. size is the
// image's side in pixels (100–2000; 0 leaves it to the provider).
func (c *Client) OneTimeQR(ctx context.Context, landingURL, format string, size int) (QR, error) {
	switch format {
	case QRTargetURL, QRPNG, "image/svg+xml":
	default:
		return QR{}, fmt.Errorf("QR format %q: use %s to draw it or %s to fetch an image", format, QRTargetURL, QRPNG)
	}
	h := http.Header{"Accept": {format}}
	if size != 0 {
		if size < 100 || size > 2000 {
			return QR{}, fmt.Errorf("QR size %d must be 100–2000 pixels: set the display's QR area within that", size)
		}
		h.Set("Size", strconv.Itoa(size))
	}
	var out QR
	err := c.exchange(ctx, request{
		method: http.MethodPost, path: "/qr/v1", header: h,
		body: struct {
			URL string `json:"url"`
		}{landingURL}, out: &out,
	})
	return out, err
}

// FetchImage downloads and decodes a QR image URL. The URL needs no
// credentials, so none are sent to it.
func (c *Client) FetchImage(ctx context.Context, url string) (image.Image, error) {
	const op = "GET QR image"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("QR image URL %q: %w", url, err)
	}
	req.Header.Set("Accept", "image/png")
	c.systemHeaders(req.Header)
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		e := newError(op, resp, data, c.cfg.Now())
		if resp.StatusCode == http.StatusGone || resp.StatusCode == http.StatusNotFound {
			e.Hint = "the QR has expired: start a new payment"
		}
		return nil, e
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err == nil {
		// The size first: a small PNG can claim gigabytes of pixels.
		var cfg image.Config
		cfg, _, err = image.DecodeConfig(bytes.NewReader(data))
		if err == nil && (cfg.Width > maxQRSide || cfg.Height > maxQRSide) {
			err = fmt.Errorf("it is %d×%d pixels, the QR API makes at most %d", cfg.Width, cfg.Height, maxQRSide)
		}
	}
	var img image.Image
	if err == nil {
		img, _, err = image.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("the image is not a PNG (ask for %s): %w", QRPNG, err)}
	}
	return img, nil
}
