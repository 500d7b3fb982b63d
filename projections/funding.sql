-- projection: funding
-- version: 1
-- description: Budgets, funding commitments, expenditures, first-level verifications and payments, in integer cents.
CREATE TABLE budgets (
    seq INTEGER PRIMARY KEY,
    project TEXT NOT NULL,
    organisation TEXT,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    note TEXT,
    approved_on TEXT NOT NULL,
    occurred_start TEXT NOT NULL
);
CREATE TABLE commitments (
    seq INTEGER PRIMARY KEY,
    project TEXT NOT NULL,
    funding_source TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    rate TEXT,
    rate_bp INTEGER,
    organisation TEXT,
    note TEXT,
    committed_on TEXT NOT NULL,
    occurred_start TEXT NOT NULL
);
CREATE TABLE expenditures (
    expenditure TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    cost_category TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    organisation TEXT,
    invoice_reference TEXT,
    description TEXT,
    spent_on TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE TABLE verifications (
    seq INTEGER PRIMARY KEY,
    expenditure TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    controller TEXT NOT NULL,
    report_reference TEXT,
    note TEXT,
    verified_on TEXT NOT NULL,
    occurred_start TEXT NOT NULL
);
CREATE TABLE payments (
    seq INTEGER PRIMARY KEY,
    project TEXT NOT NULL,
    funding_source TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    payer TEXT,
    reference TEXT,
    note TEXT,
    received_on TEXT NOT NULL
);

-- on budget-approved
INSERT INTO budgets (seq, project, organisation, amount_cents, currency, note, approved_on, occurred_start)
VALUES (:_seq, :project, :organisation, :amount_cents, :amount_currency, :note, :_occurred_at, :_occurred_start)
ON CONFLICT (seq) DO UPDATE SET
    project = excluded.project,
    organisation = excluded.organisation,
    amount_cents = excluded.amount_cents,
    currency = excluded.currency,
    note = excluded.note,
    approved_on = excluded.approved_on,
    occurred_start = excluded.occurred_start;

-- on funding-committed
INSERT INTO commitments (seq, project, funding_source, amount_cents, currency, rate, rate_bp, organisation, note, committed_on, occurred_start)
VALUES (:_seq, :project, :funding_source, :amount_cents, :amount_currency, :rate,
    CASE
        WHEN :rate IS NULL THEN NULL
        WHEN instr(:rate, '.') = 0 THEN CAST(:rate AS INTEGER) * 100
        ELSE CAST(substr(:rate, 1, instr(:rate, '.') - 1) AS INTEGER) * 100
            + CAST(substr(substr(:rate, instr(:rate, '.') + 1) || '0', 1, 2) AS INTEGER)
    END,
    :organisation, :note, :_occurred_at, :_occurred_start)
ON CONFLICT (seq) DO UPDATE SET
    project = excluded.project,
    funding_source = excluded.funding_source,
    amount_cents = excluded.amount_cents,
    currency = excluded.currency,
    rate = excluded.rate,
    rate_bp = excluded.rate_bp,
    organisation = excluded.organisation,
    note = excluded.note,
    committed_on = excluded.committed_on,
    occurred_start = excluded.occurred_start;

-- on expenditure-recorded
INSERT INTO expenditures (expenditure, project, cost_category, amount_cents, currency, organisation, invoice_reference, description, spent_on, seq)
VALUES (:expenditure, :project, :cost_category, :amount_cents, :amount_currency, :organisation, :invoice_reference, :description, :_occurred_at, :_seq)
ON CONFLICT (expenditure) DO UPDATE SET
    project = excluded.project,
    cost_category = excluded.cost_category,
    amount_cents = excluded.amount_cents,
    currency = excluded.currency,
    organisation = excluded.organisation,
    invoice_reference = excluded.invoice_reference,
    description = excluded.description,
    spent_on = excluded.spent_on,
    seq = excluded.seq;

-- on expenditure-verified
INSERT INTO verifications (seq, expenditure, amount_cents, currency, controller, report_reference, note, verified_on, occurred_start)
VALUES (:_seq, :expenditure, :amount_cents, :amount_currency, :controller, :report_reference, :note, :_occurred_at, :_occurred_start)
ON CONFLICT (seq) DO UPDATE SET
    expenditure = excluded.expenditure,
    amount_cents = excluded.amount_cents,
    currency = excluded.currency,
    controller = excluded.controller,
    report_reference = excluded.report_reference,
    note = excluded.note,
    verified_on = excluded.verified_on,
    occurred_start = excluded.occurred_start;

-- on payment-received
INSERT INTO payments (seq, project, funding_source, amount_cents, currency, payer, reference, note, received_on)
VALUES (:_seq, :project, :funding_source, :amount_cents, :amount_currency, :payer, :reference, :note, :_occurred_at)
ON CONFLICT (seq) DO UPDATE SET
    project = excluded.project,
    funding_source = excluded.funding_source,
    amount_cents = excluded.amount_cents,
    currency = excluded.currency,
    payer = excluded.payer,
    reference = excluded.reference,
    note = excluded.note,
    received_on = excluded.received_on;
