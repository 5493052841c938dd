"""Staff screens for who is responsible where: categories with their extra
questions, a kommun's own extra questions, bodies and routes, and the kommun's
staff with their roles.

A kommun's administrators set up their own kommun's bodies and routes;
superusers everything, including nationwide bodies such as Trafikverket. Who sees
what comes from municipalities.staff through a permission policy per model (see
municipalities.staff_admin), applied both to the listings and to each object's
URLs; the forms offer only the user's own kommuner, bodies and connections to
choose from. The case hub shows these screens in its "Case systems" menu, beside
the connections.
"""

import django_filters
from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, InlinePanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.admin.views import generic
from wagtail.permissions import register_permission_policy

from .choices import StaffRole
from .models import (
    Body,
    Category,
    CategoryQuestion,
    District,
    Route,
    StaffMembership,
)
from .services import (
    staff_member_add,
    staff_membership_bodies_set,
    staff_membership_revoke,
)
from .staff import (
    SETUP_ROLES,
    staff_bodies,
    staff_categories,
    staff_category_choices,
    staff_category_questions,
    staff_connections,
    staff_districts,
    staff_memberships,
    staff_municipalities,
    staff_routes,
)
from .staff_admin import (
    ScopedDeleteView,
    ScopedEditView,
    ScopedModelViewSet,
    ServiceErrorsMixin,
    setup_policy,
)

# The slugs services.municipality_join gives a kommun's own body.
KOMMUN_BODY_SLUG_PREFIX = "kommun-"

# Before any viewset asks the registry, or it would settle on a fallback policy.
body_policy = setup_policy(Body, staff_bodies)
route_policy = setup_policy(Route, staff_routes)
category_policy = setup_policy(Category, staff_categories)
question_policy = setup_policy(CategoryQuestion, staff_category_questions)
membership_policy = setup_policy(StaffMembership, staff_memberships)
register_permission_policy(Body, body_policy)
register_permission_policy(Route, route_policy)
register_permission_policy(Category, category_policy)
register_permission_policy(CategoryQuestion, question_policy)
register_permission_policy(StaffMembership, membership_policy)


# --- forms: only the user's own to choose from -----------------------------------


def restricted(user) -> bool:
    """Whether the form offers only the user's own (everyone but superusers;
    a form without a user offers nothing)."""
    return not (user is not None and user.is_superuser)


def categories_for(user):
    """The shared categories, and those of the user's own bodies' case systems."""
    return Category.objects.filter(staff_category_choices(user, SETUP_ROLES))


class BodyForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept_municipalities = []
        if not restricted(self.for_user):
            return
        own = staff_municipalities(self.for_user, SETUP_ROLES)
        self.fields["municipalities"].queryset = own
        self.fields["municipalities"].required = True
        # Only superusers make a body nationwide.
        self.fields["nationwide"].disabled = True
        if self.instance.pk:
            # A body shared with other kommuner keeps them; they are not offered.
            self.kept_municipalities = list(
                self.instance.municipalities.exclude(pk__in=own)
            )

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        # municipality_join finds a kommun's own body by this slug when the kommun
        # joins: a body named so by another kommun's staff would take it over.
        if (
            restricted(self.for_user)
            and slug.startswith(KOMMUN_BODY_SLUG_PREFIX)
            and slug != self.instance.slug
        ):
            raise forms.ValidationError(
                _(
                    "Slugs starting with %(prefix)s are kept for the kommuner's "
                    "own bodies."
                )
                % {"prefix": KOMMUN_BODY_SLUG_PREFIX}
            )
        return slug

    def clean_municipalities(self):
        return [*self.cleaned_data["municipalities"], *self.kept_municipalities]


class RouteForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        if not restricted(user):
            return
        municipality = self.fields["municipality"]
        municipality.queryset = staff_municipalities(user, SETUP_ROLES)
        # Nationwide routes are for superusers.
        municipality.required = True
        municipality.help_text = ""
        self.fields["body"].queryset = staff_bodies(user, SETUP_ROLES)
        self.fields["connection"].queryset = staff_connections(user, SETUP_ROLES)
        self.fields["category"].queryset = categories_for(user)

    def clean(self):
        cleaned = super().clean()
        body = cleaned.get("body")
        connection = cleaned.get("connection")
        municipality = cleaned.get("municipality")
        if body and connection and connection.body_id != body.pk:
            self.add_error(
                "connection", _("Choose one of the chosen body's connections.")
            )
        if (
            body
            and municipality
            and not body.nationwide
            and not body.municipalities.filter(pk=municipality.pk).exists()
        ):
            self.add_error("body", _("This body does not cover the kommun."))
        return cleaned


# --- views ---------------------------------------------------------------------------


class BodyViewSet(ScopedModelViewSet):
    model = Body
    name = "bodies"
    icon = "group"
    menu_label = gettext_lazy("Bodies")
    list_display = [
        "name",
        "kind",
        Column(
            "municipalities",
            label=gettext_lazy("Kommuner"),
            accessor=lambda body: ", ".join(m.name for m in body.municipalities.all()),
        ),
        BooleanColumn("nationwide", label=gettext_lazy("Nationwide")),
    ]
    ordering = ["name"]
    list_prefetch_related = ("municipalities",)
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldPanel("slug"),
            FieldPanel("kind"),
            FieldPanel("municipalities"),
            FieldPanel("nationwide"),
        ],
        base_form_class=BodyForm,
    )


def _own_municipalities(request):
    return staff_municipalities(request.user, SETUP_ROLES) if request else None


class RouteFilterSet(WagtailFilterSet):
    municipality = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Kommun"), queryset=_own_municipalities
    )

    class Meta:
        model = Route
        fields = ["municipality"]


class RouteViewSet(ScopedModelViewSet):
    model = Route
    name = "routes"
    icon = "arrow-right-full"
    menu_label = gettext_lazy("Routes")
    list_display = ["category", "municipality", "body", "connection"]
    filterset_class = RouteFilterSet
    list_per_page = 50
    ordering = ["municipality__name", "category__sort_order", "category__name"]
    list_select_related = ("category", "municipality", "body", "connection__body")
    edit_handler = ObjectList(
        [
            FieldPanel("municipality"),
            # A plain list: the category chooser would offer every body's own.
            FieldPanel("category", widget=forms.Select),
            FieldPanel("body"),
            FieldPanel("connection"),
        ],
        base_form_class=RouteForm,
    )


# --- categories and extra questions ---------------------------------------------


def _only_choice_chosen(form, name: str) -> None:
    """A new object's field with one choice only (a kommun administrator's own
    kommun) starts with it chosen."""
    field = form.fields[name]
    if form.instance.pk is None and name not in form.initial:
        only = list(field.queryset[:2])
        if len(only) == 1:
            form.initial[name] = only[0].pk


def _with_municipalities(form_class, municipalities):
    """``form_class`` offering only ``municipalities`` for its kommun."""

    class Restricted(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["municipality"].queryset = municipalities

    return Restricted


class CategoryForm(WagtailAdminModelForm):
    """A kommun's administrators make categories for their own bodies' case
    systems; the shared national list (no body) is the superusers'. The inline
    extra questions offer only the user's own kommuner."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not restricted(self.for_user):
            return
        body = self.fields["body"]
        body.queryset = staff_bodies(self.for_user, SETUP_ROLES)
        body.required = True
        body.help_text = ""
        own = staff_municipalities(self.for_user, SETUP_ROLES)
        questions = self.formsets.get("questions")
        if questions is not None:
            # The formset builds its forms (and the empty one) when first asked.
            questions.form = _with_municipalities(questions.form, own)


class CategoryViewSet(ScopedModelViewSet):
    model = Category
    name = "categories"
    icon = "list-ul"
    menu_label = gettext_lazy("Categories")
    list_display = [
        "name",
        Column("body", label=pgettext_lazy("responsible organisation", "Body")),
        "sort_order",
        BooleanColumn("is_active", label=gettext_lazy("active")),
    ]
    search_fields = ["name"]
    ordering = ["sort_order", "name"]
    list_select_related = ("body",)
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldPanel("slug"),
            FieldPanel("body"),
            FieldPanel("sort_order"),
            FieldPanel("is_active"),
            InlinePanel("questions", label=gettext_lazy("Extra questions")),
        ],
        base_form_class=CategoryForm,
    )


class QuestionForm(WagtailAdminModelForm):
    """A kommun's own extra question, on a category its reports may have."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        category.queryset = Category.objects.filter(
            staff_category_choices(self.for_user, SETUP_ROLES), is_active=True
        )
        if not restricted(self.for_user):
            return
        municipality = self.fields["municipality"]
        municipality.queryset = staff_municipalities(self.for_user, SETUP_ROLES)
        municipality.required = True
        municipality.help_text = ""
        _only_choice_chosen(self, "municipality")


class QuestionViewSet(ScopedModelViewSet):
    """The kommun's own extra questions, asked only for reports in the kommun
    (beside those asked everywhere)."""

    model = CategoryQuestion
    name = "questions"
    icon = "help"
    menu_label = gettext_lazy("Extra questions")
    list_display = ["label", "category", "municipality", "kind", "required"]
    ordering = ["category__name", "sort_order"]
    list_select_related = ("category", "municipality")
    edit_handler = ObjectList(
        [
            FieldPanel("category", widget=forms.Select),
            FieldPanel("municipality"),
            FieldPanel("code"),
            FieldPanel("label"),
            FieldPanel("kind"),
            FieldPanel("required"),
            FieldPanel("help_text"),
            FieldPanel("choices"),
            FieldPanel("sort_order"),
        ],
        base_form_class=QuestionForm,
    )


# --- the kommun's staff ----------------------------------------------------------


class MembershipForm(WagtailAdminModelForm):
    """A role in a kommun. Added by e-mail address (an account is made when
    none has it); afterwards only a case handler's bodies change."""

    email = forms.EmailField(label=gettext_lazy("E-mail address"))
    first_name = forms.CharField(
        label=gettext_lazy("First name"), max_length=150, required=False
    )
    last_name = forms.CharField(
        label=gettext_lazy("Last name"), max_length=150, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        own = staff_municipalities(user, SETUP_ROLES)
        if "municipality" in self.fields:
            self.fields["municipality"].queryset = own
            _only_choice_chosen(self, "municipality")
        self.fields["bodies"].queryset = staff_bodies(user, SETUP_ROLES)
        if self.instance.pk:
            for name in ("email", "first_name", "last_name"):
                del self.fields[name]

    def clean(self):
        cleaned = super().clean()
        municipality = cleaned.get("municipality") or getattr(
            self.instance, "municipality", None
        )
        role = cleaned.get("role") or self.instance.role
        bodies = cleaned.get("bodies") or []
        if bodies and role != StaffRole.CASE_HANDLER:
            self.add_error("bodies", _("Only a case handler's role lists bodies."))
        elif municipality is not None:
            outside = [
                body
                for body in bodies
                if not body.municipalities.filter(pk=municipality.pk).exists()
            ]
            if outside:
                self.add_error(
                    "bodies",
                    _("%(body)s does not cover the kommun.") % {"body": outside[0]},
                )
        return cleaned


class MembershipCreateView(ServiceErrorsMixin, generic.CreateView):
    def save_instance(self):
        data = self.form.cleaned_data
        return staff_member_add(
            actor=self.request.user,
            email=data["email"],
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            municipality=data["municipality"],
            role=data["role"],
            bodies=list(data.get("bodies") or []),
        )


class MembershipEditView(ScopedEditView):
    def save_instance(self):
        return staff_membership_bodies_set(
            actor=self.request.user,
            membership=self.object,
            bodies=list(self.form.cleaned_data.get("bodies") or []),
        )


class MembershipDeleteView(ScopedDeleteView):
    def delete_action(self):
        staff_membership_revoke(actor=self.request.user, membership=self.object)


class StaffMembershipViewSet(ScopedModelViewSet):
    """The kommun's staff and their roles, kept by its administrators."""

    model = StaffMembership
    name = "staff"
    icon = "user"
    menu_label = gettext_lazy("Staff")
    add_to_admin_menu = True
    menu_order = 230
    add_view_class = MembershipCreateView
    edit_view_class = MembershipEditView
    delete_view_class = MembershipDeleteView
    list_display = [
        Column(
            "user",
            label=gettext_lazy("Name"),
            accessor=lambda m: m.user.get_full_name() or m.user.get_username(),
        ),
        Column("email", label=gettext_lazy("E-mail address"), accessor="user.email"),
        "municipality",
        Column("role", label=gettext_lazy("Role"), accessor="get_role_display"),
        Column(
            "bodies",
            label=gettext_lazy("Bodies"),
            accessor=lambda m: (
                ", ".join(b.name for b in m.bodies.all()) or _("every body")
            ),
        ),
    ]
    search_fields = ["user__first_name", "user__last_name", "user__email"]
    ordering = ["municipality__name", "user__last_name", "user__first_name", "role"]
    list_select_related = ("user", "municipality")
    list_prefetch_related = ("bodies",)

    def get_form_class(self, for_update=False):
        fields = ["bodies"] if for_update else ["municipality", "role", "bodies"]
        return forms.modelform_factory(
            StaffMembership,
            form=MembershipForm,
            fields=fields,
            widgets={"bodies": forms.CheckboxSelectMultiple},
        )


# --- districts -------------------------------------------------------------------


district_policy = setup_policy(District, staff_districts)
register_permission_policy(District, district_policy)


class DistrictForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if restricted(self.for_user):
            self.fields["municipality"].queryset = staff_municipalities(
                self.for_user, SETUP_ROLES
            )
        self.fields["geometry"].widget = forms.Textarea(attrs={"rows": 8})


class DistrictViewSet(ScopedModelViewSet):
    """A kommun's districts, set up by its administrators; the inbox filters by
    them."""

    model = District
    name = "districts"
    icon = "site"
    menu_label = gettext_lazy("Districts")
    menu_order = 210
    add_to_admin_menu = True
    list_display = ["name", "municipality"]
    ordering = ["municipality__name", "name"]
    list_select_related = ("municipality",)
    edit_handler = ObjectList(
        [FieldPanel("municipality"), FieldPanel("name"), FieldPanel("geometry")],
        base_form_class=DistrictForm,
    )
