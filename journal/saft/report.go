package saft

import (
	"slices"
	"strconv"
	"time"

	"kasse/journal/report"
	"kasse/store"
)

// journaledReport is the X or Z report an event carries, when it is one
// and its Body reads.
func journaledReport(e store.Entry) (report.Report, bool) {
	if e.Code != store.EventXReport && e.Code != store.EventZReport || len(e.Body) == 0 {
		return report.Report{}, false
	}
	r, err := report.Decode(e)
	return r, err == nil
}

// reportID is the file's ID of the report e (unique in the file, as the
// schema's reportIDKey asks): the Z number, or "X" and the journal Seq.
func reportID(e store.Entry) string {
	if e.Code == store.EventZReport {
		return strconv.FormatUint(e.Z, 10)
	}
	return "X" + strconv.FormatUint(e.Seq, 10)
}

// eventReport writes r, the report of event e, as the schema's
// eventReport: every figure of kassasystemforskriften § 2-8-2 in its own
// element, in the schema's order, the amounts as the report printed them.
// A register that has no cash, drawer, discounts, corrections, training
// mode or credit writes those as zero, as the provider's example does.
// Cashiers without an ID (sales made without logins) have no employee to
// name, so the per-cashier lists leave them out; the totals hold them.
func (x *writer) eventReport(c Company, e store.Entry, r report.Report) {
	count := func(name string, n int) { x.leaf(name, strconv.Itoa(n)) }
	amount := func(name string, a int64) { x.leaf(name, store.Decimal(a)) }
	// A list of one row of a kind this register never has: the schema
	// wants at least one.
	none := func(list, row, typeName, typ, numName, amntName string, v report.Count) {
		x.start(list)
		x.start(row)
		x.leaf(typeName, typ)
		count(numName, v.Num)
		amount(amntName, v.Amount)
		x.end()
		x.end()
	}
	kind := "X report"
	if e.Code == store.EventZReport {
		kind = "Z report"
	}
	x.start("eventReport")
	x.leaf("reportID", reportID(e))
	x.leaf("reportType", kind)
	x.leaf("companyIdent", c.OrgDigits())
	x.leaf("companyName", clip(c.Name, 100))
	x.leaf("reportDate", e.Time.Format(time.DateOnly))
	x.leaf("reportTime", e.Time.Format(time.TimeOnly))
	x.leaf("registerID", c.RegisterID())
	x.start("reportTotalCashSales")
	amount("totalCashSaleAmnt", r.TotalCashSales)
	x.end()

	// The register sells one article in one group (masterData): its
	// groups are that article group.
	x.start("reportArtGroups")
	for _, g := range r.Groups {
		x.start("reportArtGroup")
		x.leaf("artGroupID", c.ArticleGroup)
		count("artGroupNum", g.Num)
		amount("artGroupAmnt", g.Amount)
		x.end()
	}
	x.end()
	named := cashiersWithID(r.Cashiers)
	if len(named) > 0 {
		x.start("reportEmpArtGroups")
		for _, cs := range named {
			x.start("reportEmpArtGroup")
			x.leaf("empID", cs.ID)
			x.leaf("artGroupID", c.ArticleGroup)
			count("artGroupNum", cs.Sales.Num)
			amount("artGroupAmnt", cs.Sales.Amount-cs.Returns.Amount)
			x.end()
		}
		x.end()
	}
	x.start("reportPayments")
	for _, p := range r.Payments {
		x.start("reportPayment")
		x.leaf("paymentType", strconv.Itoa(p.Code)) // our basicID of the payment code
		count("paymentNum", p.Num)
		amount("paymentAmnt", p.Amount)
		x.end()
	}
	if len(r.Payments) == 0 { // an empty period: the schema wants a row
		x.start("reportPayment")
		x.leaf("paymentType", strconv.Itoa(store.PaymentMobileApps))
		count("paymentNum", 0)
		amount("paymentAmnt", 0)
		x.end()
	}
	x.end()
	if slices.ContainsFunc(named, func(c report.Cashier) bool { return len(c.Payments) > 0 }) {
		x.start("reportEmpPayments")
		for _, cs := range named {
			for _, p := range cs.Payments {
				x.start("reportEmpPayment")
				x.leaf("empID", cs.ID)
				x.leaf("paymentType", strconv.Itoa(p.Code))
				count("paymentNum", p.Num)
				amount("paymentAmnt", p.Amount)
				x.end()
			}
		}
		x.end()
	}
	if r.Tips.Num != 0 || r.Tips.Amount != 0 {
		x.start("reportTip")
		count("tipNum", r.Tips.Num)
		amount("tipAmnt", r.Tips.Amount)
		x.end()
	}
	x.start("reportCashSalesVat")
	for _, v := range r.VAT {
		x.start("reportCashSaleVat")
		x.optional("vatCode", standardVAT[v.Rate])
		x.leaf("vatPerc", percent(v.Rate))
		amount("cashSaleAmnt", v.Net)
		amount("vatAmnt", v.VAT)
		x.leaf("vatAmntTp", "C")
		x.end()
	}
	if len(r.VAT) == 0 {
		x.start("reportCashSaleVat")
		x.leaf("vatPerc", percent(0))
		amount("cashSaleAmnt", 0)
		amount("vatAmnt", 0)
		x.end()
	}
	x.end()
	amount("reportOpeningChangeFloat", r.OpeningFloat)
	count("reportReceiptNum", r.SalesReceipts.Num)
	count("reportOpenCashBoxNum", r.DrawerOpenings)
	count("reportReceiptCopyNum", r.Copies.Num)
	amount("reportReceiptCopyAmnt", r.Copies.Amount)
	count("reportReceiptProformaNum", r.Provisional.Num)
	amount("reportReceiptProformaAmnt", r.Provisional.Amount)
	count("reportReturnNum", r.Returns.Num)
	amount("reportReturnAmnt", r.Returns.Amount)
	count("reportDiscountNum", r.Discounts.Num)
	amount("reportDiscountAmnt", r.Discounts.Amount)
	count("reportVoidTransNum", r.Voids.Num)
	amount("reportVoidTransAmnt", r.Voids.Amount)
	none("reportCorrLines", "reportCorrLine", "corrLineType", "Line correction", "corrLineNum", "corrLineAmnt", r.LineCorr)
	none("reportPriceInquiries", "reportPriceInquiry", "priceInquiryGroup", c.ArticleGroup, "priceInquiryNum",
		"priceInquiryAmnt", r.PriceInquiries)
	none("reportOtherCorrs", "reportOtherCorr", "otherCorrType", "Other correction", "otherCorrNum", "otherCorrAmnt", r.OtherCorr)
	count("reportReceiptDeliveryNum", r.Deliveries.Num)
	amount("reportReceiptDeliveryAmnt", r.Deliveries.Amount)
	count("reportTrainingNum", r.Training.Num)
	amount("reportTrainingAmnt", r.Training.Amount)
	x.start("reportCreditSales")
	count("creditSalesNum", r.CreditSales.Num)
	amount("creditSalesAmnt", r.CreditSales.Amount)
	x.end()
	x.start("reportCreditMemos")
	count("creditMemosNum", r.CreditMemos.Num)
	amount("creditMemosAmnt", r.CreditMemos.Amount)
	x.end()
	none("reportPayIns", "reportPayIn", "payInType", "None", "payInNum", "payInAmnt", r.PayIns)
	none("reportPayOuts", "reportPayOut", "payOutType", "None", "payOutNum", "payOutAmnt", r.PayOuts)
	amount("reportGrandTotalSales", r.Grand.Sales)
	amount("reportGrandTotalReturn", r.Grand.Returns)
	amount("reportGrandTotalSalesNet", r.Grand.Net)
	x.end()
}

// cashiersWithID are the report's cashiers that have an ID: the ones the
// file's employees list.
func cashiersWithID(cs []report.Cashier) []report.Cashier {
	var out []report.Cashier
	for _, c := range cs {
		if c.ID != "" {
			out = append(out, c)
		}
	}
	return out
}
