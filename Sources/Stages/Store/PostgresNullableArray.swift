import PostgresNIO

/// One column of a batch, bound as a single PostgreSQL array parameter that may hold NULLs
/// (postgres-nio encodes `[String]` but not `[String?]`), so that a statement reads a whole
/// batch's rows with `unnest($1::text[], $2::int8[], …)` in one round trip.
///
/// ```swift
/// let titles = PostgresNullableArray<String>(["Tin", nil])
/// try await connection.query("SELECT * FROM unnest(\(titles)::text[])", logger: logger)
/// ```
struct PostgresNullableArray<Element: PostgresArrayEncodable & PostgresNonThrowingEncodable>: PostgresNonThrowingEncodable, Sendable
where Element: Sendable {
    var values: [Element?]

    init(_ values: [Element?] = []) {
        self.values = values
    }

    mutating func append(_ value: Element?) {
        values.append(value)
    }

    static var psqlType: PostgresDataType { Element.psqlArrayType }
    static var psqlFormat: PostgresFormat { .binary }

    /// PostgreSQL's binary array: dimensions, a has-NULLs flag, the element type, then the
    /// length and lower bound of the one dimension and each element as a length (-1 for NULL)
    /// and its bytes.
    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        buffer.writeInteger(values.isEmpty ? 0 : 1, as: Int32.self)
        buffer.writeInteger(values.contains { $0 == nil } ? 1 : 0, as: Int32.self)
        buffer.writeInteger(Element.psqlType.rawValue)
        guard !values.isEmpty else { return }
        buffer.writeInteger(Int32(values.count))
        buffer.writeInteger(1, as: Int32.self)
        for value in values {
            guard let value else {
                buffer.writeInteger(-1, as: Int32.self)
                continue
            }
            let start = buffer.writerIndex
            buffer.writeInteger(0, as: Int32.self)
            value.encode(into: &buffer, context: context)
            buffer.setInteger(Int32(buffer.writerIndex - start - 4), at: start)
        }
    }
}
