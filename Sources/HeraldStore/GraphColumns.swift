public import GRDB
public import HeraldCore

/// Node ids are stored as their text.
extension NodeID: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { name.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> NodeID? {
        String.fromDatabaseValue(dbValue).map { NodeID($0) }
    }
}

/// Ports are stored by name (`out`, `subset3`) and read back typed.
extension PortName: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { name.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> PortName? {
        String.fromDatabaseValue(dbValue).map(PortName.init(name:))
    }
}
