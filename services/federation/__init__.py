"""Federation: messages to and from other organisations' kenett (R17), with receipts."""
