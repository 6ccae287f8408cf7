public import Foundation
public import HeraldCore
public import HeraldDelivery

/// A proof: one message node rendered for a chosen profile and sent through the configured
/// provider to a test address, outside any run. It touches neither the ledger (history, caps)
/// nor consent, and its unsubscribe link names no profile, so clicking it changes nothing.
public struct ProofRequest: Sendable {
    public var campaign: Campaign
    public var node: NodeID
    public var profile: String
    public var entity: String?
    public var address: String

    public init(campaign: Campaign, node: NodeID, profile: String, entity: String?, address: String) {
        self.campaign = campaign
        self.node = node
        self.profile = profile
        self.entity = entity
        self.address = address
    }
}

/// What became of a proof.
public struct ProofResult: Sendable, Equatable {
    public var channel: Channel
    /// Where it went (`smtp mail.example.com:587`, `outbox /srv/outbox`).
    public var destination: String
    public var outcome: ProviderOutcome
}

extension AudienceService {
    /// The profile key a proof's unsubscribe token names: none a store has.
    public static let proofProfile = "proof"

    /// Renders and sends a proof (see ``ProofRequest``). Refuses (invalidInput) an address the
    /// channel cannot take and a message with tags that have no value, as a run would not send it.
    public func sendProof(
        _ request: ProofRequest, setup: DeliverySetup, now: Date = Date(), words: PreviewWords = .commandLine
    ) throws
        -> ProofResult
    {
        let rendered = try preview(request.campaign, node: request.node, profile: request.profile, entity: request.entity, words: words)
        guard case .message(let channel, let settings)? = request.campaign.node(request.node)?.config else {
            throw HeraldError(.invalidInput, "node: '\(request.node)' is not a message node")
        }
        guard channel != .directMail else {
            throw HeraldError(
                .invalidInput,
                "node: '\(request.node)' is direct mail, whose extract has no test recipient; proofs are for e-mail, SMS and push")
        }
        guard rendered.missing.isEmpty else {
            throw HeraldError(
                .invalidInput,
                "the message has no value and no default for \(rendered.missing.joined(separator: ", ")); a run would not send it")
        }
        let address = Addresses.normalised(request.address, channel: channel)
        if let problem = Addresses.problem(address, channel: channel) { throw HeraldError(.invalidInput, "--to: \(problem)") }
        guard let provider = setup.providers[channel] else {
            throw HeraldError(.invalidInput, "no provider is configured for \(channel.rawValue)")
        }
        // Marked as a proof where the recipient sees it first.
        let fields = rendered.fields.map { field in
            var field = field
            if field.name == "subject" || field.name == "title" { field.text = "[Proof] " + field.text }
            return field
        }
        let message = OutboundMessage(
            id: Int64(now.timeIntervalSince1970 * 1000), runID: 0, campaignName: request.campaign.name, nodeID: request.node,
            channel: channel, category: settings.category, profileKey: Self.proofProfile, entityKey: request.entity, address: address,
            fields: fields,
            unsubscribeToken: setup.tokens?.token(profileKey: Self.proofProfile, channel: channel, campaign: request.campaign.name))
        let outcome = provider.send([message]).first ?? .unknown("the provider said nothing")
        return ProofResult(channel: channel, destination: provider.destination, outcome: outcome)
    }
}
