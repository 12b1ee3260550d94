package till

import (
	"kasse/device"
	"kasse/display"
)

// StateCaptureRef: the cashier keys (or scans) the reference of a remote
// order to capture at dispatch.
const StateCaptureRef = "capture-ref"

// startCapture waits for the reference of a remote order to capture: the
// order is being sent. It is keyed as a refund's is (store chooser, abc).
func (t *Till) startCapture() error {
	t.engine.Dismiss()
	t.digits, t.lastErr, t.refund = "", "", refundKeys{}
	t.state = StateCaptureRef
	t.showRefundScan()
	return nil
}

// captureKey handles keys while a reference to capture is keyed.
func (t *Till) captureKey(k device.Key) error {
	typing := t.refund.typed != "" || t.refund.store != 0
	if k == device.KeyCancel || (k == device.KeyClear && !typing) {
		t.refund = refundKeys{}
		t.idle()
		return nil
	}
	return t.referenceKey(k)
}

// captureRef asks the engine to capture ref. The engine commits the
// capture before it leaves; the receipt prints when Vipps confirms it. A
// refusal stays on the till (key another reference, or cancel), with the
// engine's reason in the status, not on the display.
func (t *Till) captureRef(ref string) error {
	if err := t.engine.Capture(ref); err != nil {
		t.show(display.Screen{Kind: display.Error, Title: "Capture not possible", Message: sayCaptureNot})
		return err
	}
	t.refund = refundKeys{}
	t.done(display.Screen{Kind: display.Paid, Title: "Capture sent", Message: sayCaptureSent})
	return nil
}
