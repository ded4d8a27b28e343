import Glibc

/// The "in body" and "in select" insertion modes (WHATWG HTML 13.2.6.4.7, 13.2.6.4.16), with
/// the table elements read in body (see ``TreeBuilder``'s comment for what is left out).
extension TreeBuilder {
    // MARK: In body

    mutating func bodyStart(_ tag: StartTag) -> ElementKind.Content {
        let kind = tag.kind
        if inSelect { return selectStart(tag) }
        if let top = stack.last, top.namespace == .html {
            switch top.kind {
            case .table, .tbody, .thead, .tfoot, .tr:
                if let content = tableStart(tag) { return content }
            case .colgroup where kind == .col:
                insertVoid(tag)
                return .markup
            case .colgroup where kind != .template:
                pop()
                return bodyStart(tag)
            default:
                break
            }
        }
        switch kind {
        case .html, .body:
            return secondRoot(tag)
        case .frameset:
            depart(.frameset)
        case .head, .frame:
            return .markup
        case .h1, .h2, .h3, .h4, .h5, .h6:
            closeParagraph()
            if let top = stack.last, top.traits.contains(.heading) { pop() }
            push(tag)
        case .form:
            if form != nil && openTemplates == 0 { return .markup }
            closeParagraph()
            push(tag)
            if openTemplates == 0 { form = stack[stack.count - 1].id }
        case .li, .dd, .dt:
            // Close the open list item of the same kind, unless a block other than a div, p or
            // address stands between.
            for node in stack.reversed() {
                if kind == .li ? node.is(.li) : node.is(.dd) || node.is(.dt) {
                    generateImpliedEndTags(except: node.kind)
                    popUntil(node.kind)
                    break
                }
                if node.isSpecial && !node.is(.address) && !node.is(.div) && !node.is(.p) { break }
            }
            closeParagraph()
            push(tag)
        case .button:
            if inScope(.button) {
                generateImpliedEndTags()
                popUntil(.button)
            }
            push(tag)
        case .a:
            // An `<a>` still active ends first.
            if let open = formatting.last(.a) {
                adoptionAgency(.a, name: tag.name)
                // Still open: not in scope, which a browser takes off the stack with what is open
                // inside it left open; here it closes with them.
                if isOpen[open.id] && closeFormatting(open) { depart(.adoptionAgency) }
                formatting.remove(id: open.id)
            }
            reconstructFormatting()
            pushFormatting(tag)
        case .nobr:
            reconstructFormatting()
            if inScope(.nobr) {
                adoptionAgency(.nobr, name: tag.name)
                reconstructFormatting()
            }
            pushFormatting(tag)
        case .b, .big, .code, .em, .font, .i, .s, .small, .strike, .strong, .tt, .u:
            reconstructFormatting()
            pushFormatting(tag)
        case .applet, .marquee, .object:
            reconstructFormatting()
            push(tag)
            formatting.appendMarker()
        case .hr:
            closeParagraph()
            insertVoid(tag)
        case .image:
            reconstructFormatting()
            var img = tag
            img.kind = .img
            img.name = ElementKind.img.cName
            insertVoid(img)
        case .optgroup, .option:
            if let top = stack.last, top.is(.option) { pop() }
            reconstructFormatting()
            push(tag)
        case .rb, .rtc:
            if inScope(.ruby) { generateImpliedEndTags() }
            push(tag)
        case .rp, .rt:
            if inScope(.ruby) { generateImpliedEndTags(except: .rtc) }
            push(tag)
        case .math, .svg:
            reconstructFormatting()
            insertForeign(tag, in: kind == .svg ? .svg : .math)
        case .caption, .col, .colgroup, .tbody, .td, .tfoot, .th, .thead, .tr:
            // A table part inside a cell or caption closes it; outside a table it is ignored.
            if inScope(.td, .table) || inScope(.th, .table) {
                generateImpliedEndTags()
                popUntil { $0.is(.td) || $0.is(.th) }
                return bodyStart(tag)
            }
            if inScope(.caption, .table) {
                generateImpliedEndTags()
                popUntil(.caption)
                return bodyStart(tag)
            }
            return .markup
        default:
            if kind.traits.contains(.headContent) { return insert(tag) }
            // In quirks mode a table goes inside an open paragraph.
            if kind.traits.contains(.closesParagraph) && !(kind == .table && quirks) { closeParagraph() }
            switch kind {
            case .area, .br, .embed, .img, .keygen, .wbr, .input, .select, .xmp: reconstructFormatting()
            default: if !kind.traits.contains(.special) { reconstructFormatting() }
            }
            return insert(tag)
        }
        return .markup
    }

    /// A start tag directly inside a table, its sections or a row; nil for the in-body rules.
    mutating func tableStart(_ tag: StartTag) -> ElementKind.Content? {
        switch tag.kind {
        case .caption, .colgroup, .tbody, .thead, .tfoot:
            popUntilTop { $0.is(.table) }
            push(tag)
            if tag.kind == .caption { formatting.appendMarker() }
        case .col:
            popUntilTop { $0.is(.table) }
            push(implied: .colgroup)
            insertVoid(tag)
        case .tr:
            popUntilTop { $0.is(.tbody) || $0.is(.thead) || $0.is(.tfoot) || $0.is(.table) }
            if stack.last?.is(.table) == true { push(implied: .tbody) }
            push(tag)
        case .td, .th:
            popUntilTop { $0.is(.tr) || $0.is(.tbody) || $0.is(.thead) || $0.is(.tfoot) || $0.is(.table) }
            if stack.last?.is(.table) == true { push(implied: .tbody) }
            if stack.last?.is(.tr) != true { push(implied: .tr) }
            push(tag)
            formatting.appendMarker()
        case .table:
            guard inScope(.table, .table) else { return .markup }
            popUntil(.table)
            return bodyStart(tag)
        case .input where tag.isHiddenInput:
            insertVoid(tag)
        case .form:
            guard form == nil && openTemplates == 0 else { return .markup }
            push(tag)
            form = stack[stack.count - 1].id
            pop()
        case .style, .script, .template:
            return nil
        default:
            depart(.fosterParenting)
            return nil
        }
        return .markup
    }

    mutating func bodyEnd(name: UnsafePointer<UInt8>, kind: ElementKind) {
        if inSelect { return selectEnd(name: name, kind: kind) }
        switch kind {
        case .body, .html, .head, .col, .frameset:
            return
        case .p:
            if !inScope(.p, .button) {
                if stack.last?.isTablePart == true { depart(.fosterParenting) }
                push(implied: .p)
            }
            generateImpliedEndTags(except: .p)
            popUntil(.p)
        case .li:
            guard inScope(.li, .listItem) else { return }
            generateImpliedEndTags(except: .li)
            popUntil(.li)
        case .form:
            // Inside a template, the nearest form in scope; elsewhere, the form element pointer's.
            let pointer = openTemplates > 0 ? stack.last(where: { $0.is(.form) })?.id : form
            if openTemplates == 0 { form = nil }
            guard let pointer, isOpen[pointer], inScope(where: { $0.id == pointer }) else { return }
            generateImpliedEndTags()
            // A browser takes only the form off the stack, leaving what is open inside it open.
            if stack.last?.id != pointer { depart(.formEnd) }
            popUntil { $0.id == pointer }
        case .dd, .dt, .applet, .marquee, .object:
            guard inScope(kind) else { return }
            generateImpliedEndTags(except: kind)
            popUntil(kind)
        case .h1, .h2, .h3, .h4, .h5, .h6:
            guard inScope(where: { $0.traits.contains(.heading) }) else { return }
            generateImpliedEndTags()
            popUntil { $0.traits.contains(.heading) }
        case .br:
            if stack.last?.isTablePart == true { depart(.fosterParenting) }
            insertVoid(StartTag(name: ElementKind.br.cName, kind: .br))
        case .table, .tbody, .thead, .tfoot, .tr, .caption:
            guard inScope(kind, .table) else { return }
            if kind == .caption { generateImpliedEndTags() }
            popUntil(kind)
        case .td, .th:
            guard inScope(kind, .table) else { return }
            generateImpliedEndTags()
            popUntil(kind)
        case .colgroup:
            if stack.last?.is(.colgroup) == true { pop() }
        case .a, .b, .big, .code, .em, .font, .i, .nobr, .s, .small, .strike, .strong, .tt, .u:
            adoptionAgency(kind, name: name)
        default:
            if kind.traits.contains(.closesBlock) {
                guard inScope(kind) else { return }
                generateImpliedEndTags()
                popUntil(kind)
                return
            }
            closeNearest(name)
        }
    }

    /// Any other end tag: closes the nearest open HTML element named `name`, unless a special
    /// element is open inside it.
    mutating func closeNearest(_ name: UnsafePointer<UInt8>) {
        for index in stack.indices.reversed() {
            let node = stack[index]
            if node.name == name && node.namespace == .html {
                generateImpliedEndTags(except: node.kind == .other ? nil : node.kind)
                while stack.count > index { pop() }
                return
            }
            if node.isSpecial { return }
        }
    }

    // MARK: In select

    /// A start tag while a `<select>` is open: options and option groups, a horizontal rule, the
    /// end of the select where a form control or (in a table) a table part starts; any other
    /// start tag is left out.
    mutating func selectStart(_ tag: StartTag) -> ElementKind.Content {
        switch tag.kind {
        case .option:
            if stack.last?.is(.option) == true { pop() }
            push(tag)
        case .optgroup, .hr:
            if stack.last?.is(.option) == true { pop() }
            if stack.last?.is(.optgroup) == true { pop() }
            if tag.kind == .hr { insertVoid(tag) } else { push(tag) }
        case .select:
            popUntil(.select)
        case .input, .keygen, .textarea:
            popUntil(.select)
            return bodyStart(tag)
        case .caption, .table, .tbody, .tfoot, .thead, .tr, .td, .th:
            guard selectInTable else { return .markup }
            popUntil(.select)
            return bodyStart(tag)
        case .script:
            return insert(tag)
        case .template:
            depart(.template)
            return insert(tag)
        case .html:
            return secondRoot(tag)
        default:
            break
        }
        return .markup
    }

    /// An end tag while a `<select>` is open.
    mutating func selectEnd(name: UnsafePointer<UInt8>, kind: ElementKind) {
        switch kind {
        case .optgroup:
            if stack.last?.is(.option) == true && stack.count > 1 && stack[stack.count - 2].is(.optgroup) { pop() }
            if stack.last?.is(.optgroup) == true { pop() }
        case .option:
            if stack.last?.is(.option) == true { pop() }
        case .select:
            popUntil(.select)
        case .caption, .table, .tbody, .tfoot, .thead, .tr, .td, .th:
            guard selectInTable, inScope(kind, .table) else { return }
            popUntil(.select)
            bodyEnd(name: name, kind: kind)
        default:
            break
        }
    }

    /// `</template>`: closes the innermost open template and what is open inside it.
    mutating func endTemplate() {
        guard openTemplates > 0 else { return }
        popUntil(.template)
    }

    /// A second `<html>` or `<body>` start tag: its attributes go to the sink, for the element
    /// open since (a `<body>` only while the body is the second element open).
    mutating func secondRoot(_ tag: StartTag) -> ElementKind.Content {
        guard let attributes = tag.attributes, openTemplates == 0 else { return .markup }
        if tag.kind == .html || (stack.count > 1 && stack[1].is(.body)) { handOnAttributes(attributes, to: tag.kind) }
        return .markup
    }

    static func isMathGlyph(_ name: UnsafePointer<UInt8>) -> Bool {
        strcmp(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self), "mglyph") == 0
            || strcmp(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self), "malignmark") == 0
    }
}
