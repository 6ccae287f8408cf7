public import GRDB
public import HeraldCore

/// Ports are stored by name (`out`, `subset3`) and read back typed.
extension PortName: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { name.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> PortName? {
        String.fromDatabaseValue(dbValue).map(PortName.init(name:))
    }
}
