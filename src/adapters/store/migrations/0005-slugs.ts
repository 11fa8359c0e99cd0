/**
 * Slugs: a short name for each org and pipeline, made once from its name and never changed, so
 * that Dagster names built from them (asset keys, job names, shard folders) survive a rename and
 * carry no user text beyond [a-z0-9_]. Orgs' slugs are unique everywhere (they prefix asset keys
 * in a shared Dagster instance), pipelines' within their org.
 *
 * The rule lives here in SQL, once: the insert triggers and the backfill of rows made before this
 * migration call the same functions, in order of creation, so an old row gets the slug it would
 * have got had it been inserted today.
 */
export default /* sql */ `
-- Lowercase (ASCII letters only: lower() of other letters depends on the server's locale, and
-- PGlite and Postgres must agree), every run of anything but [a-z0-9] becomes "_", trimmed; a
-- leading digit gets the prefix, nothing left gives the fallback; at most 40 characters.
-- The result never holds "__" nor ends in "_": naming.ts joins a slug and an id with "__".
CREATE FUNCTION slug_from_name(name text, prefix text, fallback text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT rtrim(left(CASE WHEN cleaned = '' THEN fallback WHEN cleaned ~ '^[a-z]' THEN cleaned ELSE prefix || cleaned END, 40), '_')
  FROM (SELECT btrim(regexp_replace(translate(coalesce(name, ''), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '[^a-z0-9]+', '_', 'g'), '_') AS cleaned) AS s
$$;

-- A slug already taken gets "_" and the first hex digits of md5(id), still at most 40 characters:
-- six digits, or more in the unlikely case that someone's name is exactly that.
CREATE FUNCTION slug_with_id(slug text, id uuid, digits integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT rtrim(left(slug, 39 - digits), '_') || '_' || left(md5(id::text), digits)
$$;

CREATE FUNCTION free_org_slug(name text, org uuid) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  base text := slug_from_name(name, 'org_', 'org');
  candidate text := base;
BEGIN
  FOR digits IN 6..32 LOOP
    EXIT WHEN NOT EXISTS (SELECT 1 FROM orgs WHERE slug = candidate AND id <> org);
    candidate := slug_with_id(base, org, digits);
  END LOOP;
  RETURN candidate;
END $$;

CREATE FUNCTION free_pipeline_slug(name text, pipeline uuid, org uuid) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  base text := slug_from_name(name, 'p_', 'pipeline');
  candidate text := base;
BEGIN
  FOR digits IN 6..32 LOOP
    EXIT WHEN NOT EXISTS (SELECT 1 FROM pipelines WHERE org_id = org AND slug = candidate AND id <> pipeline);
    candidate := slug_with_id(base, pipeline, digits);
  END LOOP;
  RETURN candidate;
END $$;

ALTER TABLE orgs ADD COLUMN slug text;
ALTER TABLE pipelines ADD COLUMN slug text;

DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT id, name FROM orgs ORDER BY created_at, id LOOP
    UPDATE orgs SET slug = free_org_slug(r.name, r.id) WHERE id = r.id;
  END LOOP;
  FOR r IN SELECT id, org_id, name FROM pipelines ORDER BY created_at, id LOOP
    UPDATE pipelines SET slug = free_pipeline_slug(r.name, r.id, r.org_id) WHERE id = r.id;
  END LOOP;
END $$;

-- What naming.ts relies on, held by the store too (a slug given explicitly must obey the rule's shape).
ALTER TABLE orgs ALTER COLUMN slug SET NOT NULL,
  ADD CONSTRAINT orgs_slug_key UNIQUE (slug),
  ADD CONSTRAINT orgs_slug_shape CHECK (slug ~ '^[a-z][a-z0-9_]{0,39}$' AND slug !~ '__' AND slug !~ '_$');
ALTER TABLE pipelines ALTER COLUMN slug SET NOT NULL,
  ADD CONSTRAINT pipelines_org_id_slug_key UNIQUE (org_id, slug),
  ADD CONSTRAINT pipelines_slug_shape CHECK (slug ~ '^[a-z][a-z0-9_]{0,39}$' AND slug !~ '__' AND slug !~ '_$');

CREATE FUNCTION orgs_fill_slug() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.slug IS NULL THEN NEW.slug := free_org_slug(NEW.name, NEW.id); END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER orgs_slug BEFORE INSERT ON orgs FOR EACH ROW EXECUTE FUNCTION orgs_fill_slug();

CREATE FUNCTION pipelines_fill_slug() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.slug IS NULL THEN NEW.slug := free_pipeline_slug(NEW.name, NEW.id, NEW.org_id); END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER pipelines_slug BEFORE INSERT ON pipelines FOR EACH ROW EXECUTE FUNCTION pipelines_fill_slug();

-- A slug names things in Dagster (asset keys, and so watermarks): a rename keeps it, and nothing
-- may change it afterwards.
CREATE FUNCTION slug_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.slug IS DISTINCT FROM OLD.slug THEN
    RAISE EXCEPTION 'a slug never changes once set (% → %)', OLD.slug, NEW.slug;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER orgs_slug_fixed BEFORE UPDATE ON orgs FOR EACH ROW EXECUTE FUNCTION slug_immutable();
CREATE TRIGGER pipelines_slug_fixed BEFORE UPDATE ON pipelines FOR EACH ROW EXECUTE FUNCTION slug_immutable();
`;
