"""The ground floor: settings, database, event bus, clock. It imports no component and no part of the roof."""
