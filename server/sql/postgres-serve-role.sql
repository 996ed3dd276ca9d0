-- Least privilege for `portolan serve` on PostgreSQL (README, Production). Run as the owner of the
-- tables after `portolan migrate`, in the portal's database; replace portolan_serve with the role
-- the portal logs in as. The audit log may only be appended to and read; the owner's triggers also
-- refuse UPDATE, DELETE and TRUNCATE should anyone else try.
GRANT USAGE ON SCHEMA public TO portolan_serve;
GRANT SELECT ON _sqlx_migrations TO portolan_serve;
GRANT SELECT, INSERT, UPDATE, DELETE ON settings, sessions, role_bindings TO portolan_serve;
GRANT SELECT, INSERT ON audit_log TO portolan_serve;
GRANT USAGE ON SEQUENCE audit_log_id_seq, role_bindings_id_seq TO portolan_serve;
GRANT SELECT, INSERT, UPDATE, DELETE ON metric_history, metric_pod_minutes, leases TO portolan_serve;
GRANT SELECT, INSERT, UPDATE, DELETE ON dashboards, operations TO portolan_serve;
