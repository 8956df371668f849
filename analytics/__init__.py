"""Analytics: KPIs, the big screen, hot events, seasonal residents, forecasts and staffing, playbooks and
reports. Reads routing's and telephony's published views (``routing.views``, ``telephony.views``) only."""
