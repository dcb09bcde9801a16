"""The assistant: one conversational door to help, bin days, rules, reports and case status."""
