public import Foundation
public import GRDB
public import HeraldCore

extension Store {
    /// Sets a campaign's schedule, replacing any earlier one; refused for an archived campaign,
    /// for a time zone this system does not know, and for a schedule with no launch after `now`
    /// (a date in the past, a validity period that has ended).
    /// - Returns: the campaign's name.
    public func setSchedule(_ reference: CampaignReference, _ schedule: CampaignSchedule, now: Date = Date()) throws -> String {
        try Self.checkSchedule(schedule, now: now)
        return try write { db in try Self.setSchedule(db, reference, schedule) }
    }

    /// Refuses a schedule that cannot launch: an unknown zone, an empty validity period, no
    /// launch after `now`.
    static func checkSchedule(_ schedule: CampaignSchedule, now: Date) throws {
        guard schedule.zone != nil else {
            throw HeraldError(.invalidInput, "--time-zone: '\(schedule.timeZone)' is not an IANA time zone (for example Europe/Paris)")
        }
        if let from = schedule.validFrom, let until = schedule.validUntil, until <= from {
            throw HeraldError(.invalidInput, "--until: the validity period ends before it starts")
        }
        if schedule.launches(after: Int(now.timeIntervalSince1970), count: 1).isEmpty {
            throw HeraldError(
                .invalidInput,
                "schedule: '\(schedule.schedule.text)' in \(schedule.timeZone) has no launch to come"
                    + (schedule.validUntil != nil ? " before --until" : "") + "; give a time in the future")
        }
    }

    /// Saves a campaign read from a file and, when the file gives one, its schedule, in one
    /// transaction: the campaign as code, all of it or nothing.
    public func saveCampaign(_ decoded: CampaignFormat.Decoded, replace: Bool, now: Date = Date()) throws -> StoredCampaign {
        if let schedule = decoded.schedule { try Self.checkSchedule(schedule, now: now) }
        return try write { db in
            let stored = try Self.saveCampaign(db, decoded.campaign, replace: replace)
            if let schedule = decoded.schedule { _ = try Self.setSchedule(db, .id(stored.id), schedule) }
            return stored
        }
    }

    static func setSchedule(_ db: Database, _ reference: CampaignReference, _ schedule: CampaignSchedule) throws -> String {
        do {
            let stored = try Self.loadCampaign(db, reference: reference)
            if try Self.hasArchiveColumn(db),
                try String.fetchOne(db, sql: "SELECT archived_at FROM herald_campaigns WHERE id = ?", arguments: [stored.id]) != nil
            {
                throw HeraldError(
                    .conflict, "campaign '\(stored.campaign.name)' is archived; restore it with 'herald campaign unarchive' to schedule it")
            }
            try db.execute(
                sql: """
                    INSERT INTO herald_schedules (campaign_id, expression, time_zone, valid_from, valid_until, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (campaign_id) DO UPDATE SET expression = excluded.expression, time_zone = excluded.time_zone,
                        valid_from = excluded.valid_from, valid_until = excluded.valid_until, updated_at = excluded.updated_at
                    """,
                arguments: [
                    stored.id, schedule.schedule.text, schedule.timeZone, schedule.validFrom.flatMap(TemporalText.canonical(utcSeconds:)),
                    schedule.validUntil.flatMap(TemporalText.canonical(utcSeconds:)), Store.timestamp(),
                ])
            return stored.campaign.name
        }
    }

    /// Removes a campaign's schedule. - Returns: the campaign's name and whether it had one.
    public func clearSchedule(_ reference: CampaignReference) throws -> (name: String, removed: Bool) {
        try write { db in
            let stored = try Self.loadCampaign(db, reference: reference)
            try db.execute(sql: "DELETE FROM herald_schedules WHERE campaign_id = ?", arguments: [stored.id])
            return (stored.campaign.name, db.changesCount > 0)
        }
    }

    /// A campaign's schedule, or nil when it has none (or the store predates schedules).
    public func schedule(campaignID: Int64) throws -> CampaignSchedule? {
        try read { db in try Self.schedule(db, campaignID: campaignID) }
    }

    /// Every campaign's schedule by campaign id, in one read; a stored schedule that no longer
    /// reads is left out (it launches nothing).
    public func schedules() throws -> [Int64: CampaignSchedule] {
        try read { db in
            guard try db.tableExists("herald_schedules") else { return [:] }
            var schedules: [Int64: CampaignSchedule] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT campaign_id, expression, time_zone, valid_from, valid_until FROM herald_schedules")
            {
                schedules[row["campaign_id"]] = try? Self.schedule(row)
            }
            return schedules
        }
    }

    /// `schedule(campaignID:)` inside a transaction.
    public static func schedule(_ db: Database, campaignID: Int64) throws -> CampaignSchedule? {
        guard try db.tableExists("herald_schedules"),
            let row = try Row.fetchOne(
                db, sql: "SELECT expression, time_zone, valid_from, valid_until FROM herald_schedules WHERE campaign_id = ?",
                arguments: [campaignID])
        else { return nil }
        return try schedule(row)
    }

    /// A schedule from its stored row, or throws naming what no longer reads.
    static func schedule(_ row: Row) throws -> CampaignSchedule {
        let text: String = row["expression"]
        let schedule: Schedule
        do { schedule = try Schedule(parsing: text) } catch {
            // Fail closed: a stored schedule that no longer reads launches nothing.
            throw HeraldError(.validation, "the stored schedule '\(text)' cannot be read: \(error.message)")
        }
        func instant(_ column: String) throws -> Int? {
            guard let t: String = row[column] else { return nil }
            guard let seconds = TemporalText.utcSeconds(canonical: t) else {
                throw HeraldError(.validation, "the stored schedule's \(column) '\(t)' is not an instant")
            }
            return seconds
        }
        return CampaignSchedule(
            schedule: schedule, timeZone: row["time_zone"], validFrom: try instant("valid_from"), validUntil: try instant("valid_until"))
    }
}
