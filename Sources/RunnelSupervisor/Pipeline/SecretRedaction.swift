import Foundation

/// Passwords in URLs, hidden before a command line is shown in a message.
///
/// A stage's arguments may carry a secret (`--db postgres://runnel:PASSWORD@db1/news`); problems
/// that quote the command line (`runnel check`, `runnel run`) show it as `runnel:***@db1`.
///
/// ```swift
/// SecretRedaction.redacting("postgres://u:hunter2@db/news")   // "postgres://u:***@db/news"
/// ```
public enum SecretRedaction {
    /// `word` with the password of any `scheme://user:password@…` in it replaced by `***`.
    ///
    /// The user part ends at the last `@`, so a password that holds `@` or `/` is hidden whole;
    /// a word without `://`, `@` or a password is returned as it is.
    public static func redacting(_ word: String) -> String {
        guard let scheme = word.range(of: "://"), let at = word.range(of: "@", options: .backwards),
            scheme.upperBound < at.lowerBound
        else { return word }
        let userInfo = word[scheme.upperBound..<at.lowerBound]
        guard let colon = userInfo.firstIndex(of: ":") else { return word }
        return String(word[..<colon]) + ":***" + String(word[at.lowerBound...])
    }
}
