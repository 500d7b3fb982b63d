import Ledger

extension Array where Element == EventRecord {
    /// Links and hashes every record from `index` on again, so that the chain verifies whatever
    /// was changed before: a forgery that only Kopa's own rules (not the hashes) can catch.
    public mutating func relink(from index: Int) {
        for i in index..<count {
            self[i].prev = i == 0 ? EventRecord.genesisPrev : self[i - 1].hash
            self[i].hash = self[i].computeHash()
        }
    }
}
